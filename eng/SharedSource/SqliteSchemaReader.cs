using Microsoft.Data.Sqlite;

namespace BuildingBlocks.Sqlite;

/// <summary>
/// What the SQLite packages read when they inspect a file before using it: its objects, a table's columns, pragmas.
/// Compiled into every SQLite package (linked from eng/SharedSource); each package keeps its own schema and messages.
/// </summary>
internal static class SqliteSchemaReader
{
    /// <summary>The file's tables and indexes (SQLite's own objects left out), by name.</summary>
    public static List<(string Type, string Name)> ReadObjects(SqliteConnection connection)
    {
        List<(string Type, string Name)> objects = [];
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite!_%' ESCAPE '!' ORDER BY name;";
        using SqliteDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            objects.Add((reader.GetString(0), reader.GetString(1)));
        }

        return objects;
    }

    /// <summary>The column names of <paramref name="table"/> (a name from the package's own schema, never user input).</summary>
    public static HashSet<string> ReadColumns(SqliteConnection connection, string table)
    {
        HashSet<string> present = new(StringComparer.OrdinalIgnoreCase);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = $"SELECT name FROM pragma_table_info('{table}');";
        using SqliteDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            present.Add(reader.GetString(0));
        }

        return present;
    }

    /// <summary>The objects for an error message: the first ten, or "nothing".</summary>
    public static string Describe(List<(string Type, string Name)> objects) =>
        objects.Count == 0 ? "nothing" : string.Join(", ", objects.Take(10).Select(o => $"{o.Type} '{o.Name}'")) + (objects.Count > 10 ? ", ..." : string.Empty);

    public static object? Scalar(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    public static void Execute(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        _ = command.ExecuteNonQuery();
    }
}
