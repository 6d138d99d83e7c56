using BuildingBlocks.ConsistentHashing.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BuildingBlocks.ConsistentHashing.Tests.DependencyInjection;

public class ConsistentHashingServiceCollectionExtensionsTests
{
    [Fact]
    public void AddConsistentHashing_WithNodes_ResolvesOneSingletonWithThoseNodes()
    {
        var services = new ServiceCollection();
        IConsistentHashingBuilder<string> builder = services.AddConsistentHashing<string>(o => o.VirtualNodes = 50).WithNodes("a", "b");
        using ServiceProvider provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });

        IConsistentHash<string> hash = provider.GetRequiredService<IConsistentHash<string>>();

        Assert.Same(services, builder.Services);
        Assert.Equal(string.Empty, builder.Name);
        Assert.Same(hash, provider.GetRequiredService<IConsistentHash<string>>());
        Assert.Same(hash, provider.GetRequiredKeyedService<IConsistentHash<string>>(string.Empty));
        using (IServiceScope scope = provider.CreateScope())
        {
            Assert.Same(hash, scope.ServiceProvider.GetRequiredService<IConsistentHash<string>>());
        }

        Assert.Equal(["a", "b"], hash.Members.Select(m => m.Key));
        Assert.Equal(50, Assert.IsType<HashRing<string>>(hash).VirtualNodes);
        Assert.Contains(hash.GetNode("user:42"), new[] { "a", "b" });
    }

    [Fact]
    public void AddConsistentHashing_CalledTwice_RegistersOneServiceAndAppliesBothConfigurations()
    {
        var services = new ServiceCollection();
        services.AddConsistentHashing<string>(o => o.VirtualNodes = 20).WithNodes("a");
        services.AddConsistentHashing<string>(o => o.KeyHash = KeyHashAlgorithm.Murmur3).WithNodes("b");
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Single(services, d => d.ServiceType == typeof(IConsistentHash<string>) && !d.IsKeyedService);
        Assert.Single(services, d => d.ServiceType == typeof(IConsistentHash<string>) && d.IsKeyedService && Equals(d.ServiceKey, string.Empty));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<ConsistentHashOptions<string>>));
        Assert.Single(provider.GetServices<IConsistentHash<string>>());

        IConsistentHash<string> hash = provider.GetRequiredService<IConsistentHash<string>>();
        Assert.Equal(20, Assert.IsType<HashRing<string>>(hash).VirtualNodes);
        Assert.Same(Murmur3KeyHasher.Instance, hash.Hasher);
        Assert.Equal(["a", "b"], hash.Members.Select(m => m.Key));
    }

    [Fact]
    public void AddConsistentHashing_WithAName_RegistersAKeyedInstanceIndependentOfTheDefault()
    {
        var services = new ServiceCollection();
        services.AddConsistentHashing<string>(o => o.Algorithm = ConsistentHashAlgorithm.Ring).WithNodes("a", "b");
        IConsistentHashingBuilder<string> orders = services.AddConsistentHashing<string>("orders", o => o.Algorithm = ConsistentHashAlgorithm.Jump).WithNodes("x", "y", "z");
        using ServiceProvider provider = services.BuildServiceProvider();

        IConsistentHash<string> defaultHash = provider.GetRequiredService<IConsistentHash<string>>();
        IConsistentHash<string> ordersHash = provider.GetRequiredKeyedService<IConsistentHash<string>>("orders");

        Assert.Equal("orders", orders.Name);
        Assert.NotSame(defaultHash, ordersHash);
        Assert.Same(ordersHash, provider.GetRequiredKeyedService<IConsistentHash<string>>("orders"));
        Assert.IsType<JumpHash<string>>(ordersHash);
        Assert.IsType<HashRing<string>>(defaultHash);
        Assert.Equal(["x", "y", "z"], ordersHash.Members.Select(m => m.Key));

        ordersHash.Add("w");
        Assert.Equal(4, ordersHash.Count);
        Assert.Equal(2, defaultHash.Count);
    }

    [Fact]
    public void AddConsistentHashing_WithOnlyANamedInstance_RegistersNoDefaultInstance()
    {
        var services = new ServiceCollection();
        services.AddConsistentHashing<string>("orders", null).WithNodes("x");
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Null(provider.GetService<IConsistentHash<string>>());
        Assert.Equal(["x"], provider.GetRequiredKeyedService<IConsistentHash<string>>("orders").Members.Select(m => m.Key));
    }

    [Fact]
    public void AddConsistentHashing_WithoutConfiguration_ResolvesAnEmptyRing()
    {
        var services = new ServiceCollection();
        services.AddConsistentHashing<string>();
        using ServiceProvider provider = services.BuildServiceProvider();

        IConsistentHash<string> hash = provider.GetRequiredService<IConsistentHash<string>>();

        Assert.Equal(ConsistentHashAlgorithm.Ring, hash.Algorithm);
        Assert.Equal(0, hash.Count);
        Assert.Throws<EmptyRingException>(() => hash.GetNode("key"));
    }

    [Fact]
    public void AddConsistentHashing_ForACustomNodeType_UsesTheNodeKeySelector()
    {
        var services = new ServiceCollection();
        services.AddConsistentHashing<Uri>(o => o.NodeKeySelector = u => u.Authority)
            .WithNodes(new Uri("http://cache-a:6379"), new Uri("http://cache-b:6379"))
            .WithNode(new Uri("http://cache-c:6379"), weight: 2);
        using ServiceProvider provider = services.BuildServiceProvider();

        IConsistentHash<Uri> hash = provider.GetRequiredService<IConsistentHash<Uri>>();

        Assert.Equal(["cache-a:6379", "cache-b:6379", "cache-c:6379"], hash.Members.Select(m => m.Key));
        Assert.Equal(2.0, hash.Members[2].Weight);
        Assert.True(hash.Contains(new Uri("http://cache-b:6379/other-path")));
        Assert.Throws<DuplicateNodeException>(() => hash.Add(new Uri("https://cache-a:6379")));

        // Same keys, same positions: a ring of plain strings with the same keys gives the same owners.
        var strings = new HashRing<string>(new ConsistentHashOptions<string>());
        strings.Add("cache-a:6379");
        strings.Add("cache-b:6379");
        strings.Add("cache-c:6379", 2);
        foreach (string key in TestKeys.Create(1_000))
        {
            Assert.Equal(strings.GetNode(key), hash.GetNode(key).Authority);
        }
    }

    [Fact]
    public void ResolvedInstance_AcceptsMembershipChangesAtRunTime()
    {
        var services = new ServiceCollection();
        services.AddConsistentHashing<string>(o => o.Algorithm = ConsistentHashAlgorithm.Rendezvous).WithNodes("a", "b");
        using ServiceProvider provider = services.BuildServiceProvider();
        IConsistentHash<string> hash = provider.GetRequiredService<IConsistentHash<string>>();
        long version = hash.Version;

        hash.Add("c");
        hash.Remove("a");

        IConsistentHash<string> again = provider.GetRequiredService<IConsistentHash<string>>();
        Assert.Equal(["b", "c"], again.Members.Select(m => m.Key));
        Assert.Equal(version + 2, again.Version);
        Assert.All(TestKeys.Owners(again, TestKeys.Create(500)), owner => Assert.Contains(owner, new[] { "b", "c" }));
    }

    [Fact]
    public void UseKeyHasher_ReplacesTheKeyHash()
    {
        var services = new ServiceCollection();
        services.AddConsistentHashing<string>(o => o.KeyHash = KeyHashAlgorithm.XxHash64).WithNodes("a", "b").UseKeyHasher(Fnv1aHasher.Instance);
        using ServiceProvider provider = services.BuildServiceProvider();

        IConsistentHash<string> hash = provider.GetRequiredService<IConsistentHash<string>>();

        Assert.Same(Fnv1aHasher.Instance, hash.Hasher);
        Assert.Equal(Fnv1aHasher.Instance.Hash("key"u8), hash.HashKey("key"));
    }

    [Fact]
    public void Extensions_WithNullArguments_ThrowArgumentNullException()
    {
        var services = new ServiceCollection();
        IConsistentHashingBuilder<string> builder = services.AddConsistentHashing<string>();

        Assert.Throws<ArgumentNullException>(() => ((IServiceCollection)null!).AddConsistentHashing<string>());
        Assert.Throws<ArgumentNullException>(() => services.AddConsistentHashing<string>(null!, null));
        Assert.Throws<ArgumentNullException>(() => builder.UseKeyHasher(null!));
        Assert.Throws<ArgumentNullException>(() => builder.WithNodes((IEnumerable<string>)null!));
        Assert.Throws<ArgumentNullException>(() => ((IConsistentHashingBuilder<string>)null!).WithNode("a"));
    }
}
