"""The IP allow-list (config `access:`): AWS's published ranges and the API resource policy."""
