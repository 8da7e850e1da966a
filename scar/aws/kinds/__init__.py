"""The AWS resource kinds scar manages; importing this package registers them all (family "aws")."""

from scar.aws.kinds import (  # noqa: F401 - imported to register
    api_permission,
    api_routes,
    api_stage,
    bucket,
    compute_environment,
    container_image,
    ecr_repository,
    function,
    job_definition,
    job_queue,
    launch_template,
    layer,
    log_group,
    notification,
    package_object,
    parameter,
    permission,
    rest_api,
)
