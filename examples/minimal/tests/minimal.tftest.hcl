mock_provider "aws" {
  source = "../../tests/terraform"
}

variables {
  lambda_zip = "../../tests/terraform/fixtures/lambda.zip"
}

run "the_defaults_and_one_role_held_to_two_accounts" {
  assert {
    condition     = module.ledger.pattern == 2
    error_message = "pattern 2 by default"
  }
  assert {
    condition     = length(jsondecode(output.checkout_policy).Statement[0].Resource) == 10
    error_message = "two accounts, five routes each"
  }
  assert {
    condition     = alltrue([for arn in jsondecode(output.checkout_policy).Statement[0].Resource : can(regex("/accounts/acc-[12]/", arn))])
    error_message = "only acc-1 and acc-2"
  }
}
