"""SNS: e-mail subscriptions as AWS runs them (moto confirms them at once, sends nothing).

Fills these moto gaps: an e-mail subscription stays "pending confirmation"
until the link in its confirmation e-mail is opened; confirmed subscriptions
get every message, with an unsubscribe link; e-mails are files in an outbox
folder (outbox); the links are served by the sandbox under
`/_sandbox/confirm/` and `/_sandbox/unsubscribe/`.
"""
