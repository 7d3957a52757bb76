# Who may call the API: AWS_IAM by default, COGNITO with an authorizer on every method, NONE only when
# asked for; and the IAM policy of modules/account_access, which allows the listed accounts' routes only.

mock_provider "aws" {
  source = "./tests/terraform"
}

variables {
  name_prefix = "tftest"
  lambda_zip  = "tests/terraform/fixtures/lambda.zip"
  # The account has API Gateway's CloudWatch role (logging.tftest.hcl tests the default, without it).
  api = { access_log = true }
}

run "aws_iam_by_default_on_every_method" {
  command = plan
  assert {
    condition     = alltrue([for m in values(module.api.authorization) : m.type == "AWS_IAM" && m.authorizer_id == null])
    error_message = "every method is AWS_IAM without an authorizer by default"
  }
  assert {
    condition     = length(module.api.authorization) == 11 && length(module.api.unserved) == 6
    error_message = "the API has eleven methods, every one authorized; the guard's and the holds' six are not served by default"
  }
}

run "the_routes_by_operation_are_the_methods" {
  command = plan
  assert {
    condition = jsonencode(output.api_access.routes) == jsonencode({
      post     = ["POST/accounts/{accountId}/transactions"]
      read     = ["GET/accounts/{accountId}/statement", "GET/accounts/{accountId}/summary", "GET/accounts/{accountId}/transactions"]
      transfer = ["POST/accounts/{accountId}/transfers"]
    })
    error_message = "every route names its account in the path, a transfer the account it debits"
  }
}

run "cognito_puts_the_authorizer_on_every_method" {
  command = apply
  variables {
    api = {
      access_log             = true
      authorization          = "COGNITO"
      cognito_user_pool_arns = ["arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc"]
    }
  }
  assert {
    condition     = module.api.authorizer_id != null
    error_message = "COGNITO creates the user pool authorizer"
  }
  assert {
    condition     = alltrue([for m in values(module.api.authorization) : m.type == "COGNITO_USER_POOLS" && m.authorizer_id == module.api.authorizer_id])
    error_message = "every method uses the Cognito authorizer"
  }
}

# Each operation's templates check the claim api.cognito_grants binds to it; by default a customer's
# custom:accounts reads and transfers out, and no token may post (it would credit its own account).
run "cognito_binds_each_operation_to_its_own_claim" {
  command = plan
  variables {
    api = {
      access_log             = true
      authorization          = "COGNITO"
      cognito_user_pool_arns = ["arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc"]
      cognito_grants         = { read = "custom:read", post = "custom:post", transfer = "custom:pay" }
    }
  }
  assert {
    condition = alltrue([for method, claim in {
      create_transaction = "custom:post", create_transfer = "custom:pay", get_summary = "custom:read", list_transactions = "custom:read"
      } : strcontains(module.api.request_templates[method], "claims['${claim}']") && length(regexall("claims\\['", module.api.request_templates[method])) == 1
    ])
    error_message = "each method checks the claim of its own operation, and no other"
  }
}

run "cognito_by_default_grants_no_post" {
  command = plan
  variables {
    api = {
      access_log             = true
      authorization          = "COGNITO"
      cognito_user_pool_arns = ["arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc"]
    }
  }
  assert {
    condition     = !strcontains(module.api.request_templates.create_transaction, "claims[") && strcontains(module.api.request_templates.create_transaction, "#set($refusal = \"forbidden_\")")
    error_message = "without a post grant, posting a transaction is refused to every token"
  }
  assert {
    condition     = alltrue([for m in ["create_transfer", "get_summary", "list_transactions"] : strcontains(module.api.request_templates[m], "claims['custom:accounts']")])
    error_message = "by default custom:accounts grants read and transfer"
  }
}

run "aws_iam_puts_no_claim_check_in_the_templates" {
  command = plan
  assert {
    condition     = alltrue([for t in values(module.api.request_templates) : !strcontains(t, "authorizer")])
    error_message = "with AWS_IAM the IAM policy decides, the templates check no claim"
  }
}

run "cognito_needs_user_pools" {
  command = plan
  variables {
    api = { authorization = "COGNITO", access_log = true }
  }
  expect_failures = [var.api]
}

run "none_is_refused_unless_asked_for" {
  command = plan
  variables {
    api = { authorization = "NONE", access_log = true }
  }
  expect_failures = [var.api]
}

run "none_when_asked_for_still_warns_in_the_plan" {
  command = plan
  variables {
    api = { authorization = "NONE", allow_unauthenticated = true, access_log = true }
  }
  expect_failures = [check.api_is_authenticated]
  assert {
    condition     = alltrue([for m in values(module.api.authorization) : m.type == "NONE"])
    error_message = "NONE opens every method"
  }
}

run "account_access_allows_the_granted_routes_only" {
  command = plan
  module {
    source = "./modules/account_access"
  }
  variables {
    api = {
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123"
      stage_name    = "v1"
      routes = {
        read     = ["GET/accounts/{accountId}/summary", "GET/accounts/{accountId}/transactions"]
        post     = ["POST/accounts/{accountId}/transactions"]
        transfer = ["POST/accounts/{accountId}/transfers"]
      }
    }
    grants = [
      { accounts = ["acc-1", "acc-2"], operations = ["read"] },
      { accounts = ["acc-1"], operations = ["post", "transfer", "read"] },
    ]
  }
  assert {
    condition = output.resources == tolist([
      "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/GET/accounts/acc-1/summary",
      "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/GET/accounts/acc-1/transactions",
      "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/GET/accounts/acc-2/summary",
      "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/GET/accounts/acc-2/transactions",
      "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/POST/accounts/acc-1/transactions",
      "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/POST/accounts/acc-1/transfers",
    ])
    error_message = "each granted account gets its operations' routes, once, and nothing else"
  }
  assert {
    condition     = jsondecode(output.json).Statement[0].Action == "execute-api:Invoke" && jsondecode(output.json).Statement[0].Effect == "Allow"
    error_message = "the policy allows execute-api:Invoke"
  }
}

run "account_access_refuses_a_wildcard_account" {
  command = plan
  module {
    source = "./modules/account_access"
  }
  variables {
    api    = { execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123", stage_name = "v1", routes = { read = [], post = [], transfer = [] } }
    grants = [{ accounts = ["acc-*"], operations = ["read"] }]
  }
  expect_failures = [var.grants]
}

run "account_access_refuses_an_unknown_operation" {
  command = plan
  module {
    source = "./modules/account_access"
  }
  variables {
    api    = { execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123", stage_name = "v1", routes = { read = [], post = [], transfer = [] } }
    grants = [{ accounts = ["acc-1"], operations = ["delete"] }]
  }
  expect_failures = [var.grants]
}

# limits (the guard's overdraft limits) is an operator's operation: its route exists only with the guard,
# no default COGNITO grant includes it, and account_access grants it on its own.
run "limits_is_its_own_operation_and_no_default_grant_includes_it" {
  command = plan
  variables {
    guard = {}
    api = {
      access_log             = true
      authorization          = "COGNITO"
      cognito_user_pool_arns = ["arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc"]
    }
  }
  assert {
    condition     = jsonencode(output.api_access.routes.limits) == jsonencode(["PUT/accounts/{accountId}/limits"])
    error_message = "with the guard, PUT limits is the limits operation's one route"
  }
  assert {
    condition     = !strcontains(module.api.request_templates.set_limits, "claims[") && strcontains(module.api.request_templates.set_limits, "#set($refusal = \"forbidden_\")")
    error_message = "by default no token may set limits, not even the account's holder"
  }
}

run "limits_checks_the_claim_granted_to_it_alone" {
  command = plan
  variables {
    guard = {}
    api = {
      access_log             = true
      authorization          = "COGNITO"
      cognito_user_pool_arns = ["arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc"]
      cognito_grants         = { limits = "custom:operator" }
    }
  }
  assert {
    condition     = strcontains(module.api.request_templates.set_limits, "claims['custom:operator']") && length(regexall("claims\\['", module.api.request_templates.set_limits)) == 1
    error_message = "PUT limits checks the claim bound to limits, and no other"
  }
  assert {
    condition     = !strcontains(module.api.request_templates.create_transfer, "custom:operator")
    error_message = "the limits claim grants nothing else"
  }
}

run "without_the_guard_there_is_no_limits_route" {
  command = plan
  assert {
    condition     = !contains(keys(output.api_access.routes), "limits") && !contains(keys(module.api.request_templates), "set_limits")
    error_message = "limits exist only with the guard"
  }
}

run "account_access_grants_limits_on_their_own" {
  command = plan
  module {
    source = "./modules/account_access"
  }
  variables {
    api = {
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123"
      stage_name    = "v1"
      routes = {
        read     = ["GET/accounts/{accountId}/summary", "GET/accounts/{accountId}/transactions"]
        post     = ["POST/accounts/{accountId}/transactions"]
        transfer = ["POST/accounts/{accountId}/transfers"]
        limits   = ["PUT/accounts/{accountId}/limits"]
      }
    }
    grants = [{ accounts = ["acc-1"], operations = ["limits"] }]
  }
  assert {
    condition     = output.resources == tolist(["arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/PUT/accounts/acc-1/limits"])
    error_message = "a limits grant allows the PUT limits route of its accounts, and nothing else"
  }
}

run "account_access_refuses_limits_without_the_guard" {
  command = plan
  module {
    source = "./modules/account_access"
  }
  variables {
    api    = { execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123", stage_name = "v1", routes = { read = [], post = [], transfer = [] } }
    grants = [{ accounts = ["acc-1"], operations = ["limits"] }]
  }
  expect_failures = [var.grants]
}

# Holds' operations (docs/holds.md): reading a hold is granted with reading by default; making, capturing and
# voiding one to no token until a claim is bound to each.
run "no_default_grant_makes_captures_or_voids_a_hold" {
  command = plan
  variables {
    guard = { holds = {} }
    api = {
      access_log             = true
      authorization          = "COGNITO"
      cognito_user_pool_arns = ["arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc"]
    }
  }
  assert {
    condition = alltrue([
      for method in ["create_hold", "capture_hold", "void_hold"] :
      !strcontains(module.api.request_templates[method], "claims[") && strcontains(module.api.request_templates[method], "#set($refusal = \"forbidden_\")")
    ])
    error_message = "by default no token may hold, capture or void, not even the account's holder"
  }
  assert {
    condition     = strcontains(module.api.request_templates.get_hold, "claims['custom:accounts']") && strcontains(module.api.request_templates.get_balances, "claims['custom:accounts']")
    error_message = "a hold and the balances are read with the claim that grants reading, by default"
  }
}

run "each_hold_operation_checks_the_claim_granted_to_it_alone" {
  command = plan
  variables {
    guard = { holds = {} }
    api = {
      access_log             = true
      authorization          = "COGNITO"
      cognito_user_pool_arns = ["arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc"]
      cognito_grants         = { hold = "custom:merchant", capture = "custom:acquirer", void = "custom:support", read_hold = "custom:audit" }
    }
  }
  assert {
    condition = alltrue([
      for method, claim in { create_hold = "custom:merchant", capture_hold = "custom:acquirer", void_hold = "custom:support", get_hold = "custom:audit" } :
      strcontains(module.api.request_templates[method], "claims['${claim}']") && length(regexall("claims\\['", module.api.request_templates[method])) == 1
    ])
    error_message = "each hold route checks the claim bound to its own operation, and no other"
  }
}
