"""Lambda: functions that really run (moto stores the zip and never runs it).

Fills these moto gaps: every uploaded zip runs in a worker process per
function (runtime, pool, process, worker) with its *current* configuration,
so an UpdateFunctionConfiguration (FORCE_FAIL=true) bites on the next invoke;
time-outs, throttling and Lambda-shaped errors; the code kept by CodeSha256
(store); what the function prints in `/aws/lambda/<fn>` log streams (logs);
an update in progress refusing the next, and a new role not assumable yet (updates);
published versions as immutable snapshots numbered once, RevisionId/CodeSha256
guards, the versions an alias routes to kept (versions, revisions, catalog);
aliases validated and routing invocations, weights included (aliases, catalog);
a resource-based policy per version and alias (permissions); versions and
aliases listed in pages (lists).
The entry point is `invoke.install`. Named `lambda_` because `lambda` is a
keyword.
"""
