using BuildingBlocks.Caching;
using Microsoft.Data.Sqlite;

namespace Caching.ProductCatalog;

/// <summary>
/// The database behind the cache: an <see cref="IBackingStore{TKey,TValue}"/> over a <c>products</c> table in a SQLite
/// file. Saves are idempotent upserts, one transaction per batch, as the cache requires. It counts what the cache asks
/// of it, so the sample can show what write-back saved.
/// </summary>
internal sealed class SqliteProductStore : IBackingStore<int, Product>, IDisposable
{
    private const string Columns = "id, name, price_cents, views";

    private readonly string _connectionString;
    private readonly SqliteConnection _connection;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _loads;
    private long _loadManyCalls;
    private long _saveCalls;
    private long _viewSaveCalls;
    private long _viewRowsSaved;
    private long _priceRowsSaved;
    private long _otherRowsSaved;
    private long _deletes;

    private SqliteProductStore(string path)
    {
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate }.ToString();
        _connection = new SqliteConnection(_connectionString);
        _connection.Open();
        Execute(_connection, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    }

    /// <summary>Creates the file and the table and inserts the catalog.</summary>
    public static SqliteProductStore Create(string path, IReadOnlyCollection<Product> catalog)
    {
        var store = new SqliteProductStore(path);
        Execute(store._connection, """
            CREATE TABLE IF NOT EXISTS products (
                id          INTEGER PRIMARY KEY,
                name        TEXT    NOT NULL,
                price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
                views       INTEGER NOT NULL CHECK (views >= 0)
            ) STRICT;
            """);
        using SqliteTransaction transaction = store._connection.BeginTransaction();
        using SqliteCommand insert = Upsert(store._connection, transaction);
        foreach (Product product in catalog)
        {
            Bind(insert, product);
            insert.ExecuteNonQuery();
        }

        transaction.Commit();
        return store;
    }

    /// <summary>What the cache has asked of the store so far.</summary>
    public StoreCounters Counters => new(
        Interlocked.Read(ref _loads),
        Interlocked.Read(ref _loadManyCalls),
        Interlocked.Read(ref _saveCalls),
        Interlocked.Read(ref _viewSaveCalls),
        Interlocked.Read(ref _viewRowsSaved),
        Interlocked.Read(ref _priceRowsSaved),
        Interlocked.Read(ref _otherRowsSaved),
        Interlocked.Read(ref _deletes));

    public async ValueTask<LoadResult<Product>> LoadAsync(int key, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            Interlocked.Increment(ref _loads);
            Product? product = Read(_connection, key);
            return product is null ? LoadResult<Product>.NotFound : product;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<IReadOnlyDictionary<int, Product>> LoadManyAsync(IReadOnlyCollection<int> keys, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            Interlocked.Increment(ref _loadManyCalls);
            var found = new Dictionary<int, Product>(keys.Count);
            foreach (int key in keys)
            {
                if (Read(_connection, key) is { } product)
                {
                    found[key] = product;
                }
            }

            return found;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask SaveAsync(IReadOnlyList<KeyValuePair<int, Product>> entries, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            // One transaction per batch: all of it is stored or none of it (the cache then retries the entries one by one).
            using SqliteTransaction transaction = _connection.BeginTransaction();
            using SqliteCommand upsert = Upsert(_connection, transaction);
            foreach ((_, Product product) in entries)
            {
                Bind(upsert, product);
                upsert.ExecuteNonQuery();
            }

            transaction.Commit();
            Interlocked.Increment(ref _saveCalls);
            if (entries.Any(e => e.Value.Change == ProductChange.Views))
            {
                Interlocked.Increment(ref _viewSaveCalls);
            }

            foreach ((_, Product product) in entries)
            {
                switch (product.Change)
                {
                    case ProductChange.Views:
                        Interlocked.Increment(ref _viewRowsSaved);
                        break;
                    case ProductChange.Price:
                        Interlocked.Increment(ref _priceRowsSaved);
                        break;
                    default:
                        Interlocked.Increment(ref _otherRowsSaved);
                        break;
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DeleteAsync(IReadOnlyList<int> keys, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using SqliteTransaction transaction = _connection.BeginTransaction();
            using SqliteCommand delete = _connection.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM products WHERE id = $id;";
            SqliteParameter id = delete.Parameters.Add("$id", SqliteType.Integer);
            foreach (int key in keys)
            {
                id.Value = key;
                delete.ExecuteNonQuery();
            }

            transaction.Commit();
            Interlocked.Add(ref _deletes, keys.Count);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Reads a row on a connection of its own, behind the cache's back: what the database really holds now.</summary>
    public Product? ReadBehindTheCache(int id)
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return Read(connection, id);
    }

    /// <summary>Every row, read behind the cache's back.</summary>
    public Dictionary<int, Product> ReadAllBehindTheCache()
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using SqliteCommand select = connection.CreateCommand();
        select.CommandText = $"SELECT {Columns} FROM products;";
        using SqliteDataReader reader = select.ExecuteReader();
        var rows = new Dictionary<int, Product>();
        while (reader.Read())
        {
            Product product = Row(reader);
            rows[product.Id] = product;
        }

        return rows;
    }

    public void Dispose()
    {
        _connection.Dispose();
        _gate.Dispose();
    }

    private static Product? Read(SqliteConnection connection, int id)
    {
        using SqliteCommand select = connection.CreateCommand();
        select.CommandText = $"SELECT {Columns} FROM products WHERE id = $id;";
        select.Parameters.AddWithValue("$id", id);
        using SqliteDataReader reader = select.ExecuteReader();
        return reader.Read() ? Row(reader) : null;
    }

    private static Product Row(SqliteDataReader reader) =>
        new(reader.GetInt32(0), reader.GetString(1), reader.GetInt64(2) / 100m, reader.GetInt64(3));

    private static SqliteCommand Upsert(SqliteConnection connection, SqliteTransaction transaction)
    {
        SqliteCommand upsert = connection.CreateCommand();
        upsert.Transaction = transaction;
        upsert.CommandText = $"""
            INSERT INTO products ({Columns}) VALUES ($id, $name, $price_cents, $views)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, price_cents = excluded.price_cents, views = excluded.views;
            """;
        upsert.Parameters.Add("$id", SqliteType.Integer);
        upsert.Parameters.Add("$name", SqliteType.Text);
        upsert.Parameters.Add("$price_cents", SqliteType.Integer);
        upsert.Parameters.Add("$views", SqliteType.Integer);
        return upsert;
    }

    private static void Bind(SqliteCommand upsert, Product product)
    {
        upsert.Parameters["$id"].Value = product.Id;
        upsert.Parameters["$name"].Value = product.Name;
        upsert.Parameters["$price_cents"].Value = (long)decimal.Round(product.Price * 100m);
        upsert.Parameters["$views"].Value = product.Views;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

/// <summary>What the cache asked of the store.</summary>
/// <param name="Loads">Single-key loads.</param>
/// <param name="LoadManyCalls">Multi-key loads.</param>
/// <param name="SaveCalls">Save calls (one transaction each).</param>
/// <param name="ViewSaveCalls">Save calls that carried at least one view-counter write.</param>
/// <param name="ViewRowsSaved">Rows saved whose write changed only the view counter.</param>
/// <param name="PriceRowsSaved">Rows saved whose write changed the price.</param>
/// <param name="OtherRowsSaved">Rows saved for any other change.</param>
/// <param name="Deletes">Rows deleted.</param>
internal sealed record StoreCounters(long Loads, long LoadManyCalls, long SaveCalls, long ViewSaveCalls, long ViewRowsSaved, long PriceRowsSaved, long OtherRowsSaved, long Deletes)
{
    public long RowsSaved => ViewRowsSaved + PriceRowsSaved + OtherRowsSaved;
}
