"""failover: a small serverless application that survives the loss of an AWS region."""

__version__ = "0.1.0"
