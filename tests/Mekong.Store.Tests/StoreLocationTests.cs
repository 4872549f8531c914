using Mekong.Store.Schema;

namespace Mekong.Store.Tests;

public sealed class StoreLocationTests
{
    [Theory]
    [InlineData("Host=db.example;Database=mekong;Username=m", StoreBackend.Postgres)]
    [InlineData("host=127.0.0.1;port=5433", StoreBackend.Postgres)]
    [InlineData("Data Source=.mekong/mekong.db", StoreBackend.Sqlite)]
    [InlineData(".mekong/mekong.db", StoreBackend.Sqlite)]
    [InlineData("/var/lib/mekong/mekong.db", StoreBackend.Sqlite)]
    public void The_store_string_chooses_the_backend(string store, StoreBackend expected) =>
        Assert.Equal(expected, StoreLocation.Parse(store).Backend);

    [Fact]
    public void A_bare_path_becomes_a_sqlite_data_source() =>
        Assert.Equal("Data Source=.mekong/mekong.db", StoreLocation.Parse(".mekong/mekong.db").ConnectionString);

    [Fact]
    public void A_connection_string_naming_neither_backend_is_refused() =>
        Assert.Throws<StoreException>(() => StoreLocation.Parse("Server2=x;Foo=bar"));

    [Fact]
    public void Passwords_never_appear_in_messages() =>
        Assert.DoesNotContain("hunter2", StoreLocation.Parse("Host=h;Password=hunter2").ToString(), StringComparison.Ordinal);

    [Fact]
    public void Migration_scripts_are_numbered_from_one_and_split_into_statements()
    {
        Assert.Equal(Enumerable.Range(1, Migrator.All.Count), Migrator.All.Select(m => m.Version));
        var statements = Migrator.Statements("-- a comment; not a statement\nCREATE TABLE a (x INTEGER); -- trailing\n\nCREATE INDEX i ON a (x);\n").ToList();
        Assert.Equal(["CREATE TABLE a (x INTEGER)", "CREATE INDEX i ON a (x)"], statements);
    }
}
