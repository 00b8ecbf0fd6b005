"""Habilitation requests: what an organisation asks for, how it is reviewed, and how an
approved request becomes (or changes) a habilitation. Framework-free: the portal's pages call
these functions and word their refusals (``errors.RequestError``) in French or English."""
