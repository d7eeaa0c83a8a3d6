"""The operator's IAM permissions: the registry of calls, and the policy derived from it."""
