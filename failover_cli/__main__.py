from failover_cli.cli.main import main

main()
