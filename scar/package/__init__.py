"""Build what the AWS layer uploads: the supervisor layer, the function zip and its configuration."""
