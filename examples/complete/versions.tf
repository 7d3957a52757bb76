terraform {
  required_version = ">= 1.9"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7" # 5.100: the event bus's dead_letter_config (modules/events)
    }
  }
}
