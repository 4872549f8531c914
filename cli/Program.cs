using Mekong.Cli;

return MekongCli.Run(args, Console.Out, Console.Error);
