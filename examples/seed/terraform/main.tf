resource "azurerm_resource_group" "rg" {
  name     = local.resource_group_name
  location = var.location
}

resource "azurerm_log_analytics_workspace" "workspace" {
  name                = "log-aca-jobs"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  sku                 = "PerGB2018"
  retention_in_days   = 30
}

resource "azurerm_container_app_environment" "env" {
  name                       = "aca-environment"
  location                   = azurerm_resource_group.rg.location
  resource_group_name        = azurerm_resource_group.rg.name
  log_analytics_workspace_id = azurerm_log_analytics_workspace.workspace.id
}

resource "azurerm_container_registry" "acr" {
  name                = "eventjobsdemo"
  resource_group_name = azurerm_resource_group.rg.name
  location            = azurerm_resource_group.rg.location
  sku                 = "Basic"
  admin_enabled       = false
}

resource "azurerm_user_assigned_identity" "identity" {
  name                = "identity-aca"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
}

resource "azurerm_role_assignment" "acr_pull" {
  scope                = azurerm_container_registry.acr.id
  role_definition_name = "AcrPull"
  principal_id         = data.azurerm_client_config.current.object_id
}

resource "azurerm_servicebus_namespace" "sb" {
  name                = "servicebus-ns-job"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  sku                 = "Standard"
}

resource "azurerm_servicebus_queue" "queue" {
  name               = "queue-messages"
  namespace_id       = azurerm_servicebus_namespace.sb.id
  lock_duration      = "PT5M"
  max_delivery_count = 1
}

resource "azurerm_role_assignment" "receiver" {
  scope                = azurerm_servicebus_queue.queue.id
  role_definition_name = "Azure Service Bus Data Receiver"
  principal_id         = azurerm_user_assigned_identity.identity.principal_id
}

resource "azurerm_role_assignment" "sender" {
  scope                = azurerm_servicebus_queue.queue.id
  role_definition_name = "Azure Service Bus Data Sender"
  principal_id         = azurerm_user_assigned_identity.identity.principal_id
}

# The lab builds the processor image with ACR Tasks; here the same command builds it locally.
resource "terraform_data" "image" {
  triggers_replace = [local.image]

  provisioner "local-exec" {
    command     = "az acr build --registry ${azurerm_container_registry.acr.name} --image ${local.image} ${var.app_dir}"
    working_dir = path.module
  }
}

resource "azurerm_container_app_job" "job" {
  name                         = "job-python"
  location                     = azurerm_resource_group.rg.location
  resource_group_name          = azurerm_resource_group.rg.name
  container_app_environment_id = azurerm_container_app_environment.env.id
  replica_timeout_in_seconds   = 300
  replica_retry_limit          = 1

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.identity.id]
  }

  registry {
    server   = azurerm_container_registry.acr.login_server
    identity = azurerm_user_assigned_identity.identity.id
  }

  secret {
    name  = "service-bus-connection-string"
    value = azurerm_servicebus_namespace.sb.default_primary_connection_string
  }

  event_trigger_config {
    parallelism              = 1
    replica_completion_count = 1
    scale {
      min_executions              = 0
      max_executions              = 1
      polling_interval_in_seconds = 30
      rules {
        name             = "azure-servicebus-queue-rule"
        custom_rule_type = "azure-servicebus"
        metadata = {
          queueName    = azurerm_servicebus_queue.queue.name
          namespace    = azurerm_servicebus_namespace.sb.name
          messageCount = "1"
        }
        authentication {
          secret_name       = "service-bus-connection-string"
          trigger_parameter = "connection"
        }
      }
    }
  }

  template {
    container {
      name   = "job-python"
      image  = "${azurerm_container_registry.acr.login_server}/${local.image}"
      cpu    = 0.25
      memory = "0.5Gi"
      env {
        name  = "SERVICEBUS_FQDN"
        value = "${azurerm_servicebus_namespace.sb.name}.servicebus.windows.net"
      }
      env {
        name  = "SERVICEBUS_QUEUE_NAME"
        value = azurerm_servicebus_queue.queue.name
      }
      env {
        name  = "MANAGED_IDENTITY_CLIENT_ID"
        value = azurerm_user_assigned_identity.identity.client_id
      }
    }
  }

  depends_on = [terraform_data.image, azurerm_role_assignment.receiver]
}
