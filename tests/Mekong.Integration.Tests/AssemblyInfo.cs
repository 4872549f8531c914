// Real processes, /proc and control groups: Linux only, like the agent.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
