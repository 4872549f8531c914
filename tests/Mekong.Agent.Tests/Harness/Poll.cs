namespace Mekong.Agent.Tests.Harness;

internal static class Poll
{
    /// <summary>Waits until the condition holds; fails with the message after the timeout.</summary>
    public static async Task Until(Func<bool> condition, string what, double timeoutSeconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("timed out waiting for " + what);
            }

            await Task.Delay(20);
        }
    }

    public static bool ProcessExists(int pid) => Native.ProcInfo.Read(pid) is { State: not ('Z' or 'X') };
}
