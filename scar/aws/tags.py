"""The tags scar puts on the functions it creates; `ls` and `rm` read them back."""

TAG_CREATED_BY = "createdby"  # always "scar"
TAG_OWNER = "owner"  # the IAM user or role that deployed it
TAG_IMAGE = "scar:image"
TAG_SUPERVISOR = "scar:supervisor"
TAG_LAYER = "scar:layer"
TAG_DEPLOYMENT = "scar:deployment"  # bucket/key of a package uploaded through S3
TAG_INPUTS = "scar:inputs"  # the input buckets, space-separated
TAG_CREDENTIALS = "scar:credentials"  # "ssm" when storage credentials are kept in Parameter Store
