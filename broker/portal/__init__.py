"""The operators' portal (`broker portal run`): agents sign in through the agents' identity
provider, file and review habilitation requests, manage their keys and clients; anyone reads
the usage statistics and the providers' status."""
