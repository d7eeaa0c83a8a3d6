"""What the resource kinds and the commands share about one AWS thing each.

How to find the stack's hosted zone and its record sets, its health checks (and the
force-fail override and replacement steps on them), its certificates, its DynamoDB
table, and the API stage's throttling: read by several kinds and by `status`,
`rotate-secret` and `force-fail`. Nothing here registers a kind (that is `resources/`),
and nothing here imports a kind: the layers run cli -> ops -> resources -> services ->
engine -> config/aws/net/errors.
"""
