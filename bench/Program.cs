Console.WriteLine("usage: Mekong.Bench pass [options]");
return 2;
