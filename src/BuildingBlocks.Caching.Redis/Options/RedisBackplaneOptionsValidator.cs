using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BuildingBlocks.Caching.Redis;

/// <summary>Checks <see cref="RedisBackplaneOptions"/> at start-up; every message names the option, its value and the rule.</summary>
public sealed class RedisBackplaneOptionsValidator : IValidateOptions<RedisBackplaneOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, RedisBackplaneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string prefix = string.IsNullOrEmpty(name) ? nameof(RedisBackplaneOptions) : $"{nameof(RedisBackplaneOptions)}['{name}']";
        List<string> failures = [];

        bool hasConfiguration = !string.IsNullOrWhiteSpace(options.Configuration);
        if (hasConfiguration == (options.ConnectionMultiplexerFactory is not null))
        {
            failures.Add(hasConfiguration
                ? $"{prefix}: set Configuration or ConnectionMultiplexerFactory, not both."
                : $"{prefix}.Configuration is empty and ConnectionMultiplexerFactory is null; set one of them (for example Configuration = \"localhost:6379\").");
        }
        else if (hasConfiguration)
        {
            try
            {
                ConfigurationOptions parsed = ConfigurationOptions.Parse(options.Configuration!);
                if (parsed.EndPoints.Count == 0)
                {
                    failures.Add($"{prefix}.Configuration is '{Redact(options.Configuration!)}'; it names no endpoint (for example \"localhost:6379\").");
                }
            }
            catch (ArgumentException e)
            {
                failures.Add($"{prefix}.Configuration is not a valid StackExchange.Redis configuration string: {e.Message}");
            }
        }

        if (string.IsNullOrWhiteSpace(options.ChannelPrefix))
        {
            failures.Add($"{prefix}.ChannelPrefix is '{options.ChannelPrefix}'; it must not be empty or blank (default '{RedisBackplaneOptions.DefaultChannelPrefix}').");
        }
        else if (options.ChannelPrefix.Length > RedisBackplaneOptions.MaxChannelPrefixLength)
        {
            failures.Add($"{prefix}.ChannelPrefix is {options.ChannelPrefix.Length} characters long; it must be at most {RedisBackplaneOptions.MaxChannelPrefixLength}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>The configuration string without its password, for messages and logs.</summary>
    private static string Redact(string configuration) =>
        string.Join(',', configuration.Split(',').Select(part =>
            part.TrimStart().StartsWith("password=", StringComparison.OrdinalIgnoreCase) ? "password=*****" : part));
}
