"""The stack's config: typed data (`schema`), loading and checks (`loader`), starter text.

Import from the submodules; this package imports nothing itself so that
`failover --help` stays fast.
"""
