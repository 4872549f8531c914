using Mekong.Policy;
using Mekong.Store;

namespace Mekong.Scheduler.Core;

/// <summary>A job as the API shows it: the stored record, why it waits, what its run uses, and its run number.</summary>
internal sealed record LiveJobView(StoredJob Job, PendingExplanation? Explanation, Mekong.Api.V1.JobUsage? Usage, uint Attempt);
