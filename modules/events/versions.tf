terraform {
  required_version = ">= 1.9"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7" # dead_letter_config of aws_cloudwatch_event_bus (checked against 5.100.0)
    }
  }
}
