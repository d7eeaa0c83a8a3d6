"""DynamoDB: global tables version 2019.11.21 (moto ignores `UpdateTable ReplicaUpdates`).

Fills this moto gap: real replica tables in the other regions, created and
deleted asynchronously with the states AWS shows, `Replicas` in
DescribeTable, and writes replicated between regions (replicas holds the
logic, global_tables the interceptor).
"""
