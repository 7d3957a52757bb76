# The command and query API: a REST API whose methods write to and read from DynamoDB through
# mapping templates (templates/*.vtl, partly rendered from contract.json by tools/contract.py), with no
# Lambda on the request path. Bad input answers 400 naming
# the field, and nothing is written; every method is authorized (AWS_IAM, or COGNITO with a per-account
# check of the caller's claim).

data "aws_region" "current" {}

locals {
  templates = "${path.module}/templates"
  dynamodb  = "arn:aws:apigateway:${data.aws_region.current.name}:dynamodb:action"
  json      = "application/json"
  # The configuration a deployment depends on (files and settings, not values read back from AWS):
  # a change to any of it makes a new deployment.
  fingerprint = sha1(jsonencode([
    [for f in sort(setunion(fileset(path.module, "templates/**/*.vtl"), fileset(path.module, "*.{json,tf}"))) : filesha1("${path.module}/${f}")],
    var.api.authorization,
    var.api.cognito_grants,
    # A deployment is a snapshot of the API, its authorizer included: a changed user pool reaches the stage
    # only with a new deployment (tests/first_apply: a pool added is taken without one made by hand).
    var.api.cognito_user_pool_arns,
    var.currencies,
    var.id_patterns,
    var.balance_item,
    var.guard, # the guard on or off, holds and their bounds
  ]))
  guarded = var.guard != null
  # Holds (docs/holds.md): with the guard only. One value sets the hold routes, the templates' holds (every
  # money template keeps held, free and openHolds), the stage's holdsTable and the guard's epoch (guard.tf).
  holds = try(var.guard.holds, null) != null
  # How long an integration may take: REST API's default and most (29 s), set here so that the day's seal
  # (docs/history.md) is computed from the value deployed. A row is written within it of its recordedAt.
  integration_timeout_ms = 29000
  # Access and execution logs need API Gateway's account-wide CloudWatch role: the stage writes its access
  # log when asked (api.access_log) or, by default, when the role is created here (api.create_logging_role).
  access_log = coalesce(var.api.access_log, var.api.create_logging_role)
  # The metric filter of refused money writes (stage.tf): a POST answered 422, in the JSON access log.
  refused_writes = {
    namespace = "cqrs-ledger"
    metric    = "RefusedWrites"
    pattern   = "{ ($.status = \"422\") && ($.httpMethod = \"POST\") }"
  }
  cognito     = var.api.authorization == "COGNITO"
  minor_units = join(",", [for code in sort(keys(var.currencies)) : "${code}:${var.currencies[code]}"])
  # What templatefile puts into the templates: the checks every money-writing request shares, the
  # currencies as ",CODE:places" entries (sorted by code), the fingerprint of a write (to tell a repetition
  # from a reuse of its id) and the amounts written with their currency's minor unit.
  currency_check = templatefile("${local.templates}/_currency_check.vtl", { minor_units = local.minor_units })
  # The id patterns (ids.json) as the templates match them.
  ids = { account_id = var.id_patterns.accountId, write_id = var.id_patterns.writeId }
  # What tools/contract.py renders from contract.json (each write's attributes, the optional fields of the
  # fingerprint, the list's fields), by name: each file is the template variable that places it.
  generated = {
    for f in fileset("${local.templates}/generated", "*.vtl") : trimsuffix(f, ".vtl") => file("${local.templates}/generated/${f}")
  }
  template_vars = merge(local.generated, local.ids, {
    money_checks = templatefile("${local.templates}/_money_checks.vtl", {
      currency_check = local.currency_check
      amount_check   = templatefile("${local.templates}/_amount_check.vtl", { field = "amount" })
    })
    # PUT limits: a currency and a limit of its minor unit (zero allowed: the floor back at 0).
    limit_checks = join("\n", [
      local.currency_check,
      templatefile("${local.templates}/_amount_check.vtl", { field = "overdraftLimit" }),
    ])
    # POST .../void: a currency and the remaining amount it restates, of the currency's minor unit.
    void_checks = join("\n", [
      local.currency_check,
      templatefile("${local.templates}/_amount_check.vtl", { field = "remaining" }),
    ])
    # The holds' bounds (guard.holds): open holds per balance, and the longest expiry. Read by the hold
    # templates only, which are deployed with holds on.
    hold_cap            = try(var.guard.holds.max_open_per_balance, 0)
    hold_max_seconds    = try(var.guard.holds.max_expiry_seconds, 0)
    request_fingerprint = file("${local.templates}/_request_fingerprint.vtl")
    format_amount       = file("${local.templates}/_format_amount.vtl")
    balance_update      = templatefile("${local.templates}/_balance_update.vtl", { balance = local.balance })
    refusal             = file("${local.templates}/_refusal.vtl")
    guard               = templatefile("${local.templates}/_guard.vtl", { holds = local.holds })
    balance             = local.balance
    hold                = local.hold
    # Whether the money templates write the balance items: the same setting that picks their integration's
    # action (TransactWriteItems), so that every request they render is one of that action.
    guarded           = local.guarded
    minor_units_table = "#set($minorUnits = \",${local.minor_units},\")"
    listing_query     = file("${local.templates}/_listing_query.vtl")
    details_index     = var.tables.details.index_name
  })
  # The account check of each operation. With COGNITO, the claim that grants the operation must list the
  # path's account; an operation granted to no claim (null) is refused to every token. Nothing with
  # AWS_IAM (the IAM policy decides which accounts' routes a principal may invoke, per operation).
  account_checks = {
    for operation, claim in var.api.cognito_grants : operation => (
      !local.cognito ? "" :
      claim == null ? file("${local.templates}/_no_grant.vtl") :
      templatefile("${local.templates}/_account_check.vtl", { claim = claim, operation = operation })
    )
  }
  # The request bodies of the methods deployed (contract.json, which also lists their fields for the
  # OpenAPI document). The deployed model checks only that the body is an object, and the request template
  # refuses a field not listed, naming it whole (a model's refusal can only be answered with fixed text).
  contract = jsondecode(file("${path.module}/contract.json"))
  models   = { for model, body in local.contract.bodies : model => body if contains(keys(local.methods), body.template) }
  known_fields = {
    for model, body in local.models : model => templatefile("${local.templates}/_known_fields.vtl", {
      known_fields = join(",", sort(keys(body.properties)))
    })
  }
  # The refused request of each read method (_query_refusal.vtl): its table's stage variable and index.
  query_refusals = {
    list_transactions = templatefile("${local.templates}/_query_refusal.vtl", {
      table = "detailsTable", index = "\n  \"IndexName\": \"${var.tables.details.index_name}\","
    })
    get_summary   = templatefile("${local.templates}/_query_refusal.vtl", { table = "summaryTable", index = "" })
    get_statement = templatefile("${local.templates}/_query_refusal.vtl", { table = "historyTable", index = "" })
    get_balances  = templatefile("${local.templates}/_query_refusal.vtl", { table = "balancesTable", index = "" })
  }
  # The model each method's body is checked against: null without a body, or while it is not served (an
  # unserved method checks only its account, not_served.request.vtl, and reads no body).
  body_models = { for method, m in local.methods : method => contains(keys(local.served), method) ? m.model : null }
  # The opening of each request template (_prologue.vtl): the account's checks, and the body's if it has one.
  prologues = {
    for method, m in local.methods : method => templatefile("${local.templates}/_prologue.vtl", merge(local.ids, {
      body_check         = local.body_models[method] == null ? "" : file("${local.templates}/_body_check.vtl")
      account_check      = local.account_checks[m.operation]
      known_fields_check = local.body_models[method] == null ? "" : local.known_fields[local.body_models[method]]
    }))
  }

  # One entry per method: who may call it (operation: read, post, transfer, limits, hold, capture, void or
  # read_hold, per account), its route, the DynamoDB action, its request parameters beyond the path's account
  # (the query string's, optional, and a hold's id), its templates and the responses it can give.
  methods = merge(local.base_methods, local.guard_methods, local.hold_methods)
  # The routes of an option that is off, each with why: they answer 404 not_served and write nothing. The
  # API keeps every method, so that a switch changes integrations in place and never deletes a method.
  unserved = merge(
    local.guarded ? {} : { for name in keys(local.guard_methods) : name => "the balance guard is off (guard)" },
    local.holds ? {} : { for name in keys(local.hold_methods) : name => "holds are off (guard.holds)" },
  )
  served = { for name, m in local.methods : name => m if !contains(keys(local.unserved), name) }
  guard_methods = {
    # An operator's: the overdraft limit of one balance item (guard on only).
    set_limits = {
      operation   = "limits"
      route       = "/accounts/{accountId}/limits"
      resource    = aws_api_gateway_resource.limits.id
      http_method = "PUT"
      action      = "UpdateItem"
      parameters  = {}
      path        = true
      success     = "200"
      model       = "Limits"
    }
    # An account's balances per currency as the guard counts them: posted, held and available.
    get_balances = {
      operation   = "read"
      route       = "/accounts/{accountId}/balances"
      resource    = aws_api_gateway_resource.balances.id
      http_method = "GET"
      action      = "Query"
      parameters  = { "method.request.querystring.currency" = false }
      path        = true
      success     = "200"
      model       = null
    }
  }
  # Holds (docs/holds.md): each write is one TransactWriteItems, every rule a condition of it.
  hold_methods = {
    create_hold = {
      operation   = "hold"
      route       = "/accounts/{accountId}/holds"
      resource    = aws_api_gateway_resource.holds.id
      http_method = "POST"
      action      = "TransactWriteItems"
      parameters  = {}
      path        = true
      success     = "201"
      model       = "NewHold"
    }
    get_hold = {
      operation   = "read_hold"
      route       = "/accounts/{accountId}/holds/{holdId}"
      resource    = aws_api_gateway_resource.hold.id
      http_method = "GET"
      action      = "GetItem"
      parameters  = local.hold_id
      path        = true
      success     = "200"
      model       = null
    }
    capture_hold = {
      operation   = "capture"
      route       = "/accounts/{accountId}/holds/{holdId}/captures"
      resource    = aws_api_gateway_resource.captures.id
      http_method = "POST"
      action      = "TransactWriteItems"
      parameters  = local.hold_id
      path        = true
      success     = "201"
      model       = "NewCapture"
    }
    void_hold = {
      operation   = "void"
      route       = "/accounts/{accountId}/holds/{holdId}/void"
      resource    = aws_api_gateway_resource.void.id
      http_method = "POST"
      action      = "TransactWriteItems"
      parameters  = local.hold_id
      path        = true
      success     = "200"
      model       = "Void"
    }
  }
  hold_id = { "method.request.path.holdId" = true }
  base_methods = {
    create_transaction = {
      operation   = "post"
      route       = "/accounts/{accountId}/transactions"
      resource    = aws_api_gateway_resource.transactions.id
      http_method = "POST"
      # Guarded, the row and its balance item are written in one transaction.
      action     = local.guarded ? "TransactWriteItems" : "UpdateItem"
      parameters = {}
      path       = true
      success    = "201"
      model      = "NewTransaction"
    }
    create_transfer = {
      operation   = "transfer"
      route       = "/accounts/{accountId}/transfers"
      resource    = aws_api_gateway_resource.transfers.id
      http_method = "POST"
      action      = "TransactWriteItems"
      parameters  = {}
      path        = true
      success     = "201"
      model       = "NewTransfer"
    }
    list_transactions = {
      operation   = "read"
      route       = "/accounts/{accountId}/transactions"
      resource    = aws_api_gateway_resource.transactions.id
      http_method = "GET"
      action      = "Query"
      parameters = {
        for name in ["limit", "nextToken", "from", "to", "order", "currency", "type"] : "method.request.querystring.${name}" => false
      }
      path    = true
      success = "200"
      model   = null
    }
    # The statement of closed days (docs/history.md): a month, or days of one month.
    get_statement = {
      operation   = "read"
      route       = "/accounts/{accountId}/statement"
      resource    = aws_api_gateway_resource.statement.id
      http_method = "GET"
      action      = "Query"
      parameters  = { for name in ["currency", "month", "from", "to"] : "method.request.querystring.${name}" => false }
      path        = true
      success     = "200"
      model       = null
    }
    get_summary = {
      operation   = "read"
      route       = "/accounts/{accountId}/summary"
      resource    = aws_api_gateway_resource.summary.id
      http_method = "GET"
      action      = "Query"
      parameters  = { "method.request.querystring.currency" = false }
      path        = true
      success     = "200"
      model       = null
    }
  }
  # Integration responses by DynamoDB status: 2xx -> success, 4xx -> error template, else -> 500. An
  # unserved route's 2xx and 4xx answer 404 not_served (the status overridden: a switch changes templates in
  # place, never a response's status code, which would replace it).
  outcomes = {
    for pair in setproduct(keys(local.methods), ["success", "client", "server"]) :
    "${pair[0]}.${pair[1]}" => {
      method  = pair[0]
      status  = pair[1] == "success" ? local.methods[pair[0]].success : (pair[1] == "client" ? "400" : "500")
      pattern = pair[1] == "success" ? "2\\d{2}" : (pair[1] == "client" ? "4\\d{2}" : null)
      template = (
        pair[1] == "server" ? "server_error.response.vtl" :
        contains(keys(local.unserved), pair[0]) ? "not_served.response.vtl" :
        pair[1] == "success" ? "${pair[0]}.response.vtl" : "dynamodb_error.response.vtl"
      )
    }
  }
  # 503: a guarded debit of a balance not yet seeded (ledger-ops guard init). Declared whether the guard is on
  # or off, as every method is: a switch deletes no method response (a deletion is not ordered before the
  # new deployment).
  method_statuses = {
    for pair in setproduct(keys(local.methods), ["success", "400", "403", "404", "409", "422", "429", "500", "503"]) :
    "${pair[0]}.${pair[1]}" => {
      method = pair[0]
      status = pair[1] == "success" ? local.methods[pair[0]].success : pair[1]
    }
  }
}

resource "aws_api_gateway_rest_api" "this" {
  name        = var.name
  description = "Account ledger: transactions into DynamoDB, summaries out, no Lambda on the request path."
  endpoint_configuration {
    types = ["REGIONAL"]
  }
  tags = var.tags
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_resource" "accounts" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "accounts"
}

resource "aws_api_gateway_resource" "account" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.accounts.id
  path_part   = "{accountId}"
}

resource "aws_api_gateway_resource" "transactions" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.account.id
  path_part   = "transactions"
}

resource "aws_api_gateway_resource" "summary" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.account.id
  path_part   = "summary"
}

resource "aws_api_gateway_resource" "statement" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.account.id
  path_part   = "statement"
}

# A transfer is posted under the account it debits, so that per-account access (an IAM resource ARN,
# or the Cognito claim) covers the money leaving an account; any account may be credited.
resource "aws_api_gateway_resource" "transfers" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.account.id
  path_part   = "transfers"
}

# The guard's and the holds' routes are always there, served or not (local.unserved): switching an option
# changes their integrations, which the new deployment waits for, and never deletes a method, which an apply
# would not order before the deployment, so that a deployment made without holds would still serve them.
resource "aws_api_gateway_resource" "limits" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.account.id
  path_part   = "limits"
}

resource "aws_api_gateway_resource" "balances" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.account.id
  path_part   = "balances"
}

# Holds are posted under the payer's account, as transfers are: per-account access covers the funds reserved.
resource "aws_api_gateway_resource" "holds" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.account.id
  path_part   = "holds"
}

resource "aws_api_gateway_resource" "hold" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.holds.id
  path_part   = "{holdId}"
}

resource "aws_api_gateway_resource" "captures" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.hold.id
  path_part   = "captures"
}

resource "aws_api_gateway_resource" "void" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.hold.id
  path_part   = "void"
}

resource "aws_api_gateway_model" "this" {
  for_each     = local.models
  rest_api_id  = aws_api_gateway_rest_api.this.id
  name         = each.key
  description  = "A request body is a JSON object; its fields and values are checked by the request template."
  content_type = local.json
  schema       = jsonencode({ "$schema" = "http://json-schema.org/draft-04/schema#", title = each.key, type = "object" })
}

resource "aws_api_gateway_request_validator" "this" {
  rest_api_id                 = aws_api_gateway_rest_api.this.id
  name                        = "body-and-parameters"
  validate_request_body       = true
  validate_request_parameters = true
}

# COGNITO: the ID token in the Authorization header, verified by API Gateway against the user pools.
resource "aws_api_gateway_authorizer" "cognito" {
  count           = local.cognito ? 1 : 0
  name            = "${var.name_prefix}-cognito"
  rest_api_id     = aws_api_gateway_rest_api.this.id
  type            = "COGNITO_USER_POOLS"
  provider_arns   = var.api.cognito_user_pool_arns
  identity_source = "method.request.header.Authorization"
}

resource "aws_api_gateway_method" "this" {
  #checkov:skip=CKV2_AWS_53:Requests are validated: the body by the model and validator, every value by the request template.
  for_each             = local.methods
  rest_api_id          = aws_api_gateway_rest_api.this.id
  resource_id          = each.value.resource
  http_method          = each.value.http_method
  authorization        = local.cognito ? "COGNITO_USER_POOLS" : var.api.authorization
  authorizer_id        = try(aws_api_gateway_authorizer.cognito[0].id, null)
  request_validator_id = aws_api_gateway_request_validator.this.id
  request_models       = local.body_models[each.key] == null ? {} : { (local.json) = aws_api_gateway_model.this[local.body_models[each.key]].name }
  request_parameters   = merge(each.value.path ? { "method.request.path.accountId" = true } : {}, each.value.parameters)
}

# Every method calls DynamoDB, served or not: an integration's type cannot change in place, and a replaced
# integration is deleted after its successor is made (create_before_destroy, inherited from the deployment).
# An unserved method's template checks the account, then reads a key no hold has (not_served.request.vtl),
# and its responses answer 404 not_served whatever DynamoDB said (or the account's refusal, as elsewhere).
resource "aws_api_gateway_integration" "this" {
  for_each                = local.methods
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = each.value.resource
  http_method             = aws_api_gateway_method.this[each.key].http_method
  type                    = "AWS"
  integration_http_method = "POST"
  uri                     = "${local.dynamodb}/${contains(keys(local.served), each.key) ? each.value.action : "GetItem"}"
  credentials             = aws_iam_role.api.arn
  passthrough_behavior    = "NEVER"
  timeout_milliseconds    = local.integration_timeout_ms
  request_templates = {
    (local.json) = contains(keys(local.served), each.key) ? templatefile("${local.templates}/${each.key}.request.vtl", merge(local.template_vars, {
      prologue      = local.prologues[each.key]
      query_refusal = lookup(local.query_refusals, each.key, "")
    })) : templatefile("${local.templates}/not_served.request.vtl", { holds_table = var.tables.holds.name, prologue = local.prologues[each.key] })
  }
}

resource "aws_api_gateway_method_response" "this" {
  for_each            = local.method_statuses
  rest_api_id         = aws_api_gateway_rest_api.this.id
  resource_id         = local.methods[each.value.method].resource
  http_method         = aws_api_gateway_method.this[each.value.method].http_method
  status_code         = each.value.status
  response_models     = { (local.json) = "Empty" }
  response_parameters = each.value.status == "429" ? { "method.response.header.Retry-After" = false } : {}
}

resource "aws_api_gateway_integration_response" "this" {
  for_each           = local.outcomes
  rest_api_id        = aws_api_gateway_rest_api.this.id
  resource_id        = local.methods[each.value.method].resource
  http_method        = aws_api_gateway_method.this[each.value.method].http_method
  status_code        = each.value.status
  selection_pattern  = each.value.pattern
  response_templates = { (local.json) = templatefile("${local.templates}/${each.value.template}", merge(local.template_vars, { unserved = lookup(local.unserved, each.value.method, "") })) }
  depends_on         = [aws_api_gateway_integration.this, aws_api_gateway_method_response.this]
}

# The answers API Gateway gives itself. AWS runs no Velocity in a gateway response's template: it substitutes
# $context and $stageVariables variables only, unescaped, and sends every other character as written
# (the x-amazon-apigateway-gateway-responses.responseTemplates page), so these two files hold no comment
# and no directive. A body the model refuses (it checks only that the body is a JSON object) gets fixed
# JSON: the request templates check every field and name the one at fault. Every other gateway response
# substitutes its type and AWS's quoted message, both fixed texts of AWS's.
resource "aws_api_gateway_gateway_response" "this" {
  for_each      = toset(["DEFAULT_4XX", "DEFAULT_5XX", "BAD_REQUEST_BODY", "THROTTLED"])
  rest_api_id   = aws_api_gateway_rest_api.this.id
  response_type = each.key
  response_templates = {
    (local.json) = file("${local.templates}/${each.key == "BAD_REQUEST_BODY" ? "bad_request_body" : "default"}.gateway.vtl")
  }
  response_parameters = each.key == "THROTTLED" ? { "gatewayresponse.header.Retry-After" = "'1'" } : {}
}

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  triggers    = { fingerprint = local.fingerprint }
  lifecycle {
    create_before_destroy = true
  }
  depends_on = [aws_api_gateway_integration_response.this, aws_api_gateway_gateway_response.this]
}

moved {
  from = aws_api_gateway_model.new_transaction
  to   = aws_api_gateway_model.this["NewTransaction"]
}

moved {
  from = aws_api_gateway_resource.limits[0]
  to   = aws_api_gateway_resource.limits
}

moved {
  from = aws_api_gateway_resource.balances[0]
  to   = aws_api_gateway_resource.balances
}

moved {
  from = aws_api_gateway_resource.holds[0]
  to   = aws_api_gateway_resource.holds
}

moved {
  from = aws_api_gateway_resource.hold[0]
  to   = aws_api_gateway_resource.hold
}

moved {
  from = aws_api_gateway_resource.captures[0]
  to   = aws_api_gateway_resource.captures
}

moved {
  from = aws_api_gateway_resource.void[0]
  to   = aws_api_gateway_resource.void
}
