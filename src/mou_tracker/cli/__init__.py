"""The command line. Imports nothing heavy at module level: ``--help`` stays instant."""
