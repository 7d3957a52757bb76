# Region, credentials and endpoint come from the environment (AWS_REGION, AWS_PROFILE or keys,
# AWS_ENDPOINT_URL for the local account). Modules declare no provider.
provider "aws" {}
