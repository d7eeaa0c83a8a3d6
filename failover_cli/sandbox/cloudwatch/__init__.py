"""CloudWatch: metric alarms that evaluate and act (moto stores them and never evaluates).

Fills this moto gap: alarms judge their metric every period (alarm_rules, pure
logic), change state, keep the state across PutMetricAlarm as AWS does, and
publish CloudWatch's SNS message (alarm_messages) through the sandbox's own
SNS API over loopback (core `loopback`), so the sns subpackage delivers it
like any other message.
"""
