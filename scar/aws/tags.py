"""The tags scar puts on the functions it creates; `ls` and `rm` read them back."""

TAG_CREATED_BY = "createdby"  # always "scar"
TAG_OWNER = "owner"  # the IAM user or role that deployed it
TAG_IMAGE = "scar:image"
TAG_SUPERVISOR = "scar:supervisor"
TAG_LAYER = "scar:layer"
TAG_DEPLOYMENT = "scar:deployment"  # bucket/key of a package uploaded through S3
TAG_INPUTS = "scar:inputs"  # the input buckets, space-separated
TAG_CREDENTIALS = "scar:credentials"  # "ssm" when storage credentials are kept in Parameter Store
TAG_API = "scar:api"  # the name of the function's REST API, when it has one
TAG_EXECUTION_MODE = "scar:execution-mode"  # "batch" or "lambda-batch"; absent for Lambda-only functions
TAG_FUNCTION = "scar:function"  # on the AWS Batch resources: the function they belong to
TAG_DEFINITION = "scar:definition"  # on the AWS Batch resources: digest of what scar asked for
TAG_LAUNCH_TEMPLATE = "scar:launch-template"  # a Batch function's EC2 launch template
