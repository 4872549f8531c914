namespace Mekong.Simulation.Metrics;

/// <summary>Integrates, between events, what each tenant holds against what it is entitled to.</summary>
/// <remarks>
/// Entitled share: the weighted max-min fair allocation of the cluster's GPUs among tenants with demand
/// (pending + running GPUs), by water-filling — a tenant asking for less than its weighted share gets all it
/// asks, the rest is split by weight among the others — recomputed at every event time.
/// Jain's index of received/entitled over tenants with demand, averaged over time weighted by contention:
/// the weight of an interval is its length times the unmet demand (demand beyond the cluster's GPUs), so
/// intervals where everyone can be served count nothing and the most contended count most.
/// </remarks>
internal sealed class FairnessMeter
{
    private readonly double[] _weight;
    private readonly long _capacity;
    private readonly long[] _demand;
    private readonly long[] _held;
    private readonly double[] _entitled;
    private readonly int[] _order;
    private long _totalDemand;
    private long _totalHeld;
    private long _last;
    private readonly double[] _ratio;

    public FairnessMeter(double[] weights, long capacity)
    {
        _weight = weights;
        _capacity = capacity;
        var n = weights.Length;
        _demand = new long[n];
        _held = new long[n];
        _entitled = new double[n];
        _order = new int[n];
        ReceivedGpuSeconds = new double[n];
        RatioWeighted = new double[n];
        RatioWeight = new double[n];
        _ratio = new double[n];
        EntitledGpuSeconds = new double[n];
    }

    public double[] ReceivedGpuSeconds { get; }
    public double[] EntitledGpuSeconds { get; }
    public double BusyGpuSeconds { get; private set; }
    public double JainWeighted { get; private set; }
    public double ContentionWeight { get; private set; }
    public double[] RatioWeighted { get; }
    public double[] RatioWeight { get; }

    public long DemandOf(int tenant) => _demand[tenant];

    public void Arrive(int tenant, int gpus) { _demand[tenant] += gpus; _totalDemand += gpus; }

    public void Start(int tenant, int gpus) { _held[tenant] += gpus; _totalHeld += gpus; }

    /// <summary>A run ended; when <paramref name="completed"/> the job leaves the demand too.</summary>
    public void Stop(int tenant, int gpus, bool completed)
    {
        _held[tenant] -= gpus;
        _totalHeld -= gpus;
        if (!completed) return;
        _demand[tenant] -= gpus;
        _totalDemand -= gpus;
    }

    /// <summary>Accounts for the interval since the last call with the state as it was; call before applying
    /// the events at <paramref name="now"/>.</summary>
    public void AdvanceTo(long now)
    {
        var dt = now - _last;
        if (dt <= 0) return;
        _last = now;
        BusyGpuSeconds += (double)_totalHeld * dt;
        if (_totalDemand == 0) return;
        Entitle();
        double sum = 0, sumSq = 0;
        var n = 0;
        for (var i = 0; i < _demand.Length; i++)
        {
            ReceivedGpuSeconds[i] += (double)_held[i] * dt;
            if (_demand[i] == 0) continue;
            EntitledGpuSeconds[i] += _entitled[i] * dt;
            var x = _held[i] / _entitled[i];
            _ratio[i] = x;
            sum += x;
            sumSq += x * x;
            n++;
        }
        var unmet = _totalDemand - _capacity;
        if (unmet <= 0) return;
        var jain = sumSq > 0 ? sum * sum / (n * sumSq) : 0;
        var w = (double)unmet * dt;
        JainWeighted += jain * w;
        ContentionWeight += w;
        for (var i = 0; i < _demand.Length; i++)
        {
            if (_demand[i] == 0) continue;
            RatioWeighted[i] += _ratio[i] * w;
            RatioWeight[i] += w;
        }
    }

    /// <summary>Water-filling: tenants in order of demand/weight; each gets its demand if that is below its
    /// weighted part of what is left, else all remaining tenants get their weighted part.</summary>
    private void Entitle()
    {
        var m = 0;
        double weights = 0;
        for (var i = 0; i < _demand.Length; i++)
        {
            _entitled[i] = 0;
            if (_demand[i] == 0) continue;
            _order[m++] = i;
            weights += _weight[i];
        }
        var order = _order.AsSpan(0, m);
        // Insertion sort: a handful of tenants, and it is stable (ties keep tenant order: deterministic).
        for (var a = 1; a < order.Length; a++)
        {
            var v = order[a];
            var key = _demand[v] / _weight[v];
            var b = a - 1;
            while (b >= 0 && _demand[order[b]] / _weight[order[b]] > key) { order[b + 1] = order[b]; b--; }
            order[b + 1] = v;
        }
        double left = _capacity;
        for (var k = 0; k < order.Length; k++)
        {
            var i = order[k];
            var fair = left * _weight[i] / weights;
            if (_demand[i] <= fair)
            {
                _entitled[i] = _demand[i];
                left -= _demand[i];
                weights -= _weight[i];
                continue;
            }
            for (var r = k; r < order.Length; r++) _entitled[order[r]] = left * _weight[order[r]] / weights;
            return;
        }
    }
}
