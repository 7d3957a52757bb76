# No provider block: region, credentials and endpoint come from the environment (AWS_REGION,
# AWS_PROFILE or keys, AWS_ENDPOINT_URL for the local account), and the module can be called from
# another configuration, which configures its own provider (examples/).
# The one required_version: every module and example repeats it in its own versions.tf (each can be called
# alone), and tests/static/test_versions.py holds them to this one and this one to the features used.
terraform {
  required_version = ">= 1.9"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7" # 5.100: the event bus's dead_letter_config (modules/events)
    }
  }
}
