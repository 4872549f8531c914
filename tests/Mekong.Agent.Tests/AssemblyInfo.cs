// The agent is Linux only; so are its tests (real processes, /proc, control groups).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
