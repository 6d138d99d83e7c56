namespace Showcase.Sections;

/// <summary>One package at work. Each package adds its section to Program.cs.</summary>
internal interface IShowcaseSection
{
    string Title { get; }

    Task RunAsync(TextWriter output, CancellationToken cancellationToken);
}
