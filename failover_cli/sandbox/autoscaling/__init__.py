"""Application Auto Scaling (the table's provisioned capacity).

Fills this moto gap: deregistering a scalable target deletes its scaling
policies, as on AWS (moto 5.2.5 keeps them, so a later stack of the same name
would find them).
"""
