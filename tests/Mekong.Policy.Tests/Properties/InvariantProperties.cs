using FsCheck;
using FsCheck.Fluent;
using Xunit.Abstractions;

namespace Mekong.Policy.Tests.Properties;

/// <summary>The invariants of DESIGN.md ("The policy" → "Invariants"), checked by FsCheck on random clusters,
/// account trees and event streams against <see cref="ReferenceModel"/>. A failure prints the shrunk input
/// (seed and event codes: the replay) and the trace of events and plans that led to it.</summary>
public class InvariantProperties(ITestOutputHelper output)
{
    private readonly ITestOutputHelper _output = output;

    private const int Runs = 200;

    private static void Holds(Checks checks, int runs = Runs) =>
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(runs),
            Prop.ForAll(ScenarioInput.Arbitrary(), input => { PolicyDriver.Run(input, checks); }));

    [Fact]
    public void Invariant1_a_gpu_is_never_given_twice_nor_of_the_wrong_type() => Holds(Checks.Allocations);

    [Fact]
    public void Invariant2_no_account_holds_more_than_its_limit() => Holds(Checks.Limits);

    [Fact]
    public void Invariant3_a_gang_starts_with_all_its_nodes_or_not_at_all() => Holds(Checks.Allocations);

    [Fact]
    public void Invariant4_a_guaranteed_job_waits_at_most_one_cycle_plus_grace() => Holds(Checks.GuaranteeWait);

    [Fact]
    public void Invariant5_backfill_never_delays_a_reservation() => Holds(Checks.Reservations);

    [Fact]
    public void Invariant6_equal_inputs_give_equal_decisions_and_decide_matches_schedule() => Holds(Checks.Determinism);

    [Fact]
    public void Fair_share_order_equals_brute_force_fair_tree() => Holds(Checks.FairShare);

    /// <summary>Regression (found by invariant 4): job 24 (3×1 h100, inside o0/p1/q0's guarantee) preempted
    /// borrower 11 and waited for it, but later in the same pass job 26 of the same project started inside the
    /// guarantee headroom 24 was waiting to use, so once 11 was gone 24 was no longer guaranteed.</summary>
    [Fact]
    public void Regression_a_reclaiming_job_keeps_its_guarantee_headroom_while_it_waits() =>
        PolicyDriver.Run(new ScenarioInput(512176520,
            [307501, 6, 513559, 724510, 63426, 487223, 492329, 459310, 389637, 719219, 862763, 986423, 982622, 570650, 257441, 424526, 667434, 266379, 678630,
             807311, 434329, 486961, 8510, 904734, 507426, 860747, 964154, 538667, 870801, 976424, 698058, 33741, 323937, 716112, 3927, 211754, 95656]),
            Checks.All);

    /// <summary>Guards against vacuous properties: the generated streams do reach gangs, borrowing,
    /// preemption, reservations with backfill beside them, and invariant 4's precondition.</summary>
    [Fact]
    public void Generated_scenarios_exercise_what_the_invariants_are_about()
    {
        var total = new RunStatistics();
        foreach (var input in Gen.Sample(ScenarioInput.Arbitrary().Generator, int.Parse(Environment.GetEnvironmentVariable("MEKONG_PROPS_SAMPLES") ?? "300", System.Globalization.CultureInfo.InvariantCulture))) total.Add(PolicyDriver.Run(input, Checks.All));
        _output.WriteLine(total.ToString());
        Assert.True(total.GangStarts > 0 && total.BorrowingStarts > 0 && total.Preemptions > 0 && total.StartsBesideReservations > 0
            && total.GuaranteeCases > 0 && total.FollowUps > 0, total.ToString());
    }
}
