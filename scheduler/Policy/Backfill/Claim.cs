namespace Mekong.Policy.Backfill;

/// <summary>A reservation's hold on one node over [Start, End): nothing placed on the node may leave it short then.</summary>
internal struct Claim
{
    public long Start;
    public long End;
    public int Gpus;
    public int Cpu;
    public long Memory;
    public JobId Job;
    /// <summary>Next claim on the same node, or -1.</summary>
    public int Next;
}
