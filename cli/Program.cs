Console.Error.WriteLine("mekong: no command yet");
return 2;
