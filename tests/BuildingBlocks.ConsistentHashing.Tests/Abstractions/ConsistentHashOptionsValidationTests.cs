using BuildingBlocks.ConsistentHashing.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace BuildingBlocks.ConsistentHashing.Tests.Abstractions;

/// <summary>Every invalid option fails fast twice: in the constructor and at host start-up, naming the option and its value.</summary>
public class ConsistentHashOptionsValidationTests
{
    public static TheoryData<string, string> InvalidOptions => new()
    {
        { "VirtualNodes=0", "ConsistentHashOptions.VirtualNodes = 0" },
        { "VirtualNodes=100001", "ConsistentHashOptions.VirtualNodes = 100001" },
        { "VirtualNodes=-5", "ConsistentHashOptions.VirtualNodes = -5" },
        { "MaglevTableSize=65536", "ConsistentHashOptions.MaglevTableSize = 65536" },
        { "MaglevTableSize=5", "ConsistentHashOptions.MaglevTableSize = 5" },
        { "BoundedLoadEpsilon=0", "ConsistentHashOptions.BoundedLoadEpsilon = 0" },
        { "BoundedLoadEpsilon=NaN", $"ConsistentHashOptions.BoundedLoadEpsilon = {double.NaN}" },
        { "BoundedLoadEpsilon=-1", "ConsistentHashOptions.BoundedLoadEpsilon = -1" },
        { "BoundedLoadEpsilon=+Infinity", $"ConsistentHashOptions.BoundedLoadEpsilon = {double.PositiveInfinity}" },
        { "BoundedLoadEpsilon=101", "ConsistentHashOptions.BoundedLoadEpsilon = 101" },
        { "Algorithm=42", "ConsistentHashOptions.Algorithm = 42" },
        { "KeyHash=9", "ConsistentHashOptions.KeyHash = 9" },
        { "Jump+weights", "ConsistentHashOptions.Nodes[1].Weight = 2" },
        { "Nodes[1].Weight=0", "ConsistentHashOptions.Nodes[1].Weight = 0" },
        { "Nodes[1].Weight=NaN", $"ConsistentHashOptions.Nodes[1].Weight = {double.NaN}" },
        { "Nodes[0]=null", "ConsistentHashOptions.Nodes[0] is null" },
        { "Nodes[1]=blank", "ConsistentHashOptions.Nodes[1]: " },
        { "Nodes[2]=duplicate", "ConsistentHashOptions.Nodes[2] has key 'node-a'" },
        { "Maglev+too-many-nodes", "ConsistentHashOptions.Nodes has 8 nodes: more than MaglevTableSize = 7" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Constructor_WithAnInvalidOption_ThrowsOptionsValidationExceptionNamingItAndItsValue(string invalid, string expected)
    {
        // Options.Algorithm picks what ConsistentHash.Create builds; a direct constructor validates for its own algorithm.
        string[] rejecting = invalid switch
        {
            "Algorithm=42" => ["Create"],
            "Jump+weights" => ["Create", "Jump"],
            "Maglev+too-many-nodes" => ["Create", "Maglev"],
            _ => [.. Constructors().Select(c => c.Name)],
        };

        foreach ((string name, Func<ConsistentHashOptions<string>, IConsistentHash<string>> create) in Constructors())
        {
            var options = new ConsistentHashOptions<string>();
            Apply(options, invalid);

            if (rejecting.Contains(name))
            {
                OptionsValidationException ex = Assert.Throws<OptionsValidationException>(() => create(options));
                Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
                Assert.Equal(typeof(ConsistentHashOptions<string>), ex.OptionsType);
            }
            else
            {
                Assert.Equal(options.Nodes.Count, create(options).Count);
            }
        }
    }

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public async Task HostStartup_WithAnInvalidOption_FailsWithOptionsValidationExceptionNamingItAndItsValue(string invalid, string expected)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddConsistentHashing<string>(o => Apply(o, invalid));
        using IHost host = builder.Build();

        OptionsValidationException ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostStartup_WithAnInvalidNamedInstance_NamesTheInstanceInTheMessage()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddConsistentHashing<string>(o => o.VirtualNodes = 10);
        builder.Services.AddConsistentHashing<string>("orders", o => o.VirtualNodes = 0);
        using IHost host = builder.Build();

        OptionsValidationException ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("ConsistentHashOptions['orders'].VirtualNodes = 0", ex.Message, StringComparison.Ordinal);
        Assert.Equal("orders", ex.OptionsName);
    }

    [Fact]
    public async Task HostStartup_WithValidOptions_Starts()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddConsistentHashing<string>(o => o.Algorithm = ConsistentHashAlgorithm.Maglev).WithNodes("a", "b");
        using IHost host = builder.Build();

        await host.StartAsync(TestContext.Current.CancellationToken);

        Assert.Equal(2, host.Services.GetRequiredService<IConsistentHash<string>>().Count);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public void Constructor_ForANonStringNodeTypeWithoutNodeKeySelector_ThrowsOptionsValidationException()
    {
        OptionsValidationException ex = Assert.Throws<OptionsValidationException>(() => new HashRing<Uri>(new ConsistentHashOptions<Uri>()));

        Assert.Contains("ConsistentHashOptions.NodeKeySelector is null", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Uri", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostStartup_ForANonStringNodeTypeWithoutNodeKeySelector_Fails()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddConsistentHashing<Uri>();
        using IHost host = builder.Build();

        OptionsValidationException ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("ConsistentHashOptions.NodeKeySelector is null", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_WithSeveralInvalidOptions_ReportsEachOfThem()
    {
        var options = new ConsistentHashOptions<string> { VirtualNodes = 0, MaglevTableSize = 100, BoundedLoadEpsilon = -2 };

        ValidateOptionsResult result = new ConsistentHashOptionsValidator<string>().Validate("ring-1", options);

        Assert.True(result.Failed);
        Assert.Equal(3, result.Failures!.Count());
        Assert.Contains(result.Failures!, f => f.StartsWith("ConsistentHashOptions['ring-1'].VirtualNodes = 0", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("ConsistentHashOptions['ring-1'].MaglevTableSize = 100", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("ConsistentHashOptions['ring-1'].BoundedLoadEpsilon = -2", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1, 7, 1e-9)]
    [InlineData(100_000, ConsistentHashOptions<string>.MaxMaglevTableSize, 100.0)]
    [InlineData(ConsistentHashOptions<string>.DefaultVirtualNodes, ConsistentHashOptions<string>.DefaultMaglevTableSize, ConsistentHashOptions<string>.DefaultBoundedLoadEpsilon)]
    public void Validate_AcceptsValuesAtTheLimits(int virtualNodes, int maglevTableSize, double epsilon)
    {
        var options = new ConsistentHashOptions<string> { VirtualNodes = virtualNodes, MaglevTableSize = maglevTableSize, BoundedLoadEpsilon = epsilon };
        options.Nodes.Add(new WeightedNode<string>("node-a"));

        Assert.True(new ConsistentHashOptionsValidator<string>().Validate(null, options).Succeeded);
        foreach ((_, Func<ConsistentHashOptions<string>, IConsistentHash<string>> create) in Constructors())
        {
            Assert.Equal("node-a", create(options).GetNode("key"));
        }
    }

    [Fact]
    public void IsPrime_AgreesWithTrialDivision()
    {
        for (int n = -3; n < 2_000; n++)
        {
            bool expected = n >= 2 && Enumerable.Range(2, Math.Max(0, n - 2)).All(d => n % d != 0);
            Assert.Equal(expected, ConsistentHashOptionsValidator<string>.IsPrime(n));
        }

        Assert.True(ConsistentHashOptionsValidator<string>.IsPrime(ConsistentHashOptions<string>.MaxMaglevTableSize));
        Assert.True(ConsistentHashOptionsValidator<string>.IsPrime(int.MaxValue));
        Assert.False(ConsistentHashOptionsValidator<string>.IsPrime(65_537 * 3));
    }

    [Theory]
    [InlineData(ConsistentHashAlgorithm.Ring, typeof(HashRing<string>))]
    [InlineData(ConsistentHashAlgorithm.Jump, typeof(JumpHash<string>))]
    [InlineData(ConsistentHashAlgorithm.Rendezvous, typeof(RendezvousHash<string>))]
    [InlineData(ConsistentHashAlgorithm.Maglev, typeof(MaglevHash<string>))]
    [InlineData(ConsistentHashAlgorithm.BoundedLoad, typeof(BoundedLoadHashRing<string>))]
    public void ConsistentHashCreate_ReturnsTheImplementationOfTheAlgorithm(ConsistentHashAlgorithm algorithm, Type expected)
    {
        ConsistentHash<string> hash = ConsistentHash.Create(new ConsistentHashOptions<string> { Algorithm = algorithm });

        Assert.IsType(expected, hash);
        Assert.Equal(algorithm, hash.Algorithm);
        Assert.Throws<ArgumentNullException>(() => ConsistentHash.Create<string>(null!));
    }

    [Fact]
    public void Options_HaveTheDocumentedDefaults()
    {
        var options = new ConsistentHashOptions<string>();

        Assert.Equal(ConsistentHashAlgorithm.Ring, options.Algorithm);
        Assert.Equal(160, options.VirtualNodes);
        Assert.Equal(KeyHashAlgorithm.XxHash3, options.KeyHash);
        Assert.Null(options.KeyHasher);
        Assert.Null(options.NodeKeySelector);
        Assert.Equal(65_537, options.MaglevTableSize);
        Assert.Equal(0.25, options.BoundedLoadEpsilon);
        Assert.Empty(options.Nodes);
    }

    private static (string Name, Func<ConsistentHashOptions<string>, IConsistentHash<string>> Create)[] Constructors() =>
    [
        ("Create", ConsistentHash.Create),
        ("Ring", o => new HashRing<string>(o)),
        ("Jump", o => new JumpHash<string>(o)),
        ("Rendezvous", o => new RendezvousHash<string>(o)),
        ("Maglev", o => new MaglevHash<string>(o)),
        ("BoundedLoad", o => new BoundedLoadHashRing<string>(o)),
    ];

    private static void Apply(ConsistentHashOptions<string> options, string invalid)
    {
        switch (invalid)
        {
            case "VirtualNodes=0": options.VirtualNodes = 0; break;
            case "VirtualNodes=100001": options.VirtualNodes = 100_001; break;
            case "VirtualNodes=-5": options.VirtualNodes = -5; break;
            case "MaglevTableSize=65536": options.MaglevTableSize = 65_536; break;
            case "MaglevTableSize=5": options.MaglevTableSize = 5; break;
            case "BoundedLoadEpsilon=0": options.BoundedLoadEpsilon = 0; break;
            case "BoundedLoadEpsilon=NaN": options.BoundedLoadEpsilon = double.NaN; break;
            case "BoundedLoadEpsilon=-1": options.BoundedLoadEpsilon = -1; break;
            case "BoundedLoadEpsilon=+Infinity": options.BoundedLoadEpsilon = double.PositiveInfinity; break;
            case "BoundedLoadEpsilon=101": options.BoundedLoadEpsilon = 101; break;
            case "Algorithm=42": options.Algorithm = (ConsistentHashAlgorithm)42; break;
            case "KeyHash=9": options.KeyHash = (KeyHashAlgorithm)9; break;
            case "Jump+weights":
                options.Algorithm = ConsistentHashAlgorithm.Jump;
                options.Nodes.Add(new WeightedNode<string>("node-a"));
                options.Nodes.Add(new WeightedNode<string>("node-b", 2));
                break;
            case "Nodes[1].Weight=0":
                options.Nodes.Add(new WeightedNode<string>("node-a"));
                options.Nodes.Add(new WeightedNode<string>("node-b", 0));
                break;
            case "Nodes[1].Weight=NaN":
                options.Nodes.Add(new WeightedNode<string>("node-a"));
                options.Nodes.Add(new WeightedNode<string>("node-b", double.NaN));
                break;
            case "Nodes[0]=null":
                options.Nodes.Add(new WeightedNode<string>(null!));
                break;
            case "Nodes[1]=blank":
                options.Nodes.Add(new WeightedNode<string>("node-a"));
                options.Nodes.Add(new WeightedNode<string>(" "));
                break;
            case "Nodes[2]=duplicate":
                options.Nodes.Add(new WeightedNode<string>("node-a"));
                options.Nodes.Add(new WeightedNode<string>("node-b"));
                options.Nodes.Add(new WeightedNode<string>("node-a"));
                break;
            case "Maglev+too-many-nodes":
                options.Algorithm = ConsistentHashAlgorithm.Maglev;
                options.MaglevTableSize = 7;
                foreach (string node in TestKeys.Nodes(8))
                {
                    options.Nodes.Add(new WeightedNode<string>(node));
                }

                break;
            default: throw new ArgumentOutOfRangeException(nameof(invalid), invalid, null);
        }
    }
}
