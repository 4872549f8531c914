// The agent drives Linux process groups, control groups and /proc: Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
