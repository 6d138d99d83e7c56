using System.Text;
using Showcase.Sections;

// The main job: each BuildingBlocks package at work on embedded defaults, no server needed.
IShowcaseSection[] sections =
[
    new ConsistentHashingSection(),
    new TaskQueueSection(),
    new CachingSection(),
    new SagasSection(),
];

Console.OutputEncoding = Encoding.UTF8;
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

Console.WriteLine("BuildingBlocks showcase");
Console.WriteLine();
foreach (IShowcaseSection section in sections)
{
    Console.WriteLine(section.Title);
    Console.WriteLine(new string('=', section.Title.Length));
    await section.RunAsync(Console.Out, cancellation.Token);
    Console.WriteLine();
}

return 0;
