namespace Mekong.Store;

/// <summary>The database behind a store.</summary>
public enum StoreBackend
{
    /// <summary>One local file in WAL mode: the embedded default.</summary>
    Sqlite = 0,
    /// <summary>A PostgreSQL server: the production choice.</summary>
    Postgres = 1,
}
