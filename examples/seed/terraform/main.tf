resource "azurerm_resource_group" "rg" {
  name     = "rg-containerapp-keda"
  location = "westeurope"
}

resource "azurerm_log_analytics_workspace" "workspace" {
  name                = "log-analytics-aca"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  sku                 = "PerGB2018"
  retention_in_days   = 30
}

resource "azurerm_container_app_environment" "aca_environment" {
  name                       = "aca-environment"
  location                   = azurerm_resource_group.rg.location
  resource_group_name        = azurerm_resource_group.rg.name
  log_analytics_workspace_id = azurerm_log_analytics_workspace.workspace.id
}

# registry names are global in Azure: pick your own there
resource "azurerm_container_registry" "acr" {
  name                = "eventjobsdemo"
  resource_group_name = azurerm_resource_group.rg.name
  location            = azurerm_resource_group.rg.location
  sku                 = "Basic"
  admin_enabled       = false
}

resource "azurerm_user_assigned_identity" "identity_aca" {
  name                = "identity-aca"
  resource_group_name = azurerm_resource_group.rg.name
  location            = azurerm_resource_group.rg.location
}

# the job pulls its image with its identity
resource "azurerm_role_assignment" "acr_pull" {
  scope                = azurerm_container_registry.acr.id
  role_definition_name = "AcrPull"
  principal_id         = azurerm_user_assigned_identity.identity_aca.principal_id
}

resource "azurerm_servicebus_namespace" "service_bus" {
  name                = "servicebus-ns-job"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  sku                 = "Standard"
}

resource "azurerm_servicebus_queue" "queue_messages" {
  name               = "queue-messages"
  namespace_id       = azurerm_servicebus_namespace.service_bus.id
  lock_duration      = "PT5M" # a received message stays locked for the processor at most 5 minutes
  max_delivery_count = 1
}

# the job's identity receives (and may send) on the queue
resource "azurerm_role_assignment" "receiver_identity" {
  scope                = azurerm_servicebus_queue.queue_messages.id
  role_definition_name = "Azure Service Bus Data Receiver"
  principal_id         = azurerm_user_assigned_identity.identity_aca.principal_id
}

resource "azurerm_role_assignment" "sender_identity" {
  scope                = azurerm_servicebus_queue.queue_messages.id
  role_definition_name = "Azure Service Bus Data Sender"
  principal_id         = azurerm_user_assigned_identity.identity_aca.principal_id
}

# so do you: run app/processor.py from your machine with your own az credential
resource "azurerm_role_assignment" "receiver_me" {
  scope                = azurerm_servicebus_queue.queue_messages.id
  role_definition_name = "Azure Service Bus Data Receiver"
  principal_id         = data.azurerm_client_config.current.object_id
}

resource "azurerm_role_assignment" "sender_me" {
  scope                = azurerm_servicebus_queue.queue_messages.id
  role_definition_name = "Azure Service Bus Data Sender"
  principal_id         = data.azurerm_client_config.current.object_id
}

# ACR Tasks builds the processor's image in Azure; here eventjobs builds it from the same command
resource "terraform_data" "build_container_image" {
  triggers_replace = [var.image_tag]

  provisioner "local-exec" {
    command     = "az acr build -r ${azurerm_container_registry.acr.name} -f ./${var.app}/Dockerfile ./${var.app}/ -t ${var.image_name}:${var.image_tag} --no-format"
    working_dir = "${path.module}/.."
  }
}

# the job, made with az as the lab makes it (a new image tag makes it again)
resource "terraform_data" "deploy_job" {
  triggers_replace = [var.image_tag, var.image_name]

  provisioner "local-exec" {
    command = <<-EOT
      az containerapp job create \
        --name job-python \
        --resource-group ${azurerm_resource_group.rg.name} \
        --environment ${azurerm_container_app_environment.aca_environment.name} \
        --trigger-type "Event" \
        --replica-timeout 86400 \
        --replica-retry-limit 1 \
        --replica-completion-count 1 \
        --parallelism 1 \
        --image ${azurerm_container_registry.acr.login_server}/${var.image_name}:${var.image_tag} \
        --registry-identity ${azurerm_user_assigned_identity.identity_aca.id} \
        --registry-server ${azurerm_container_registry.acr.login_server} \
        --cpu 0.25 \
        --memory 0.5 \
        --min-executions 0 \
        --max-executions 1 \
        --secrets service-bus-connection-string="${azurerm_servicebus_namespace.service_bus.default_primary_connection_string}" \
        --scale-rule-name azure-servicebus-queue-rule \
        --scale-rule-type azure-servicebus \
        --scale-rule-auth "connection=service-bus-connection-string" \
        --scale-rule-metadata "queueName=${azurerm_servicebus_queue.queue_messages.name}" \
                              "namespace=${azurerm_servicebus_namespace.service_bus.name}" \
                              "messageCount=1" \
        --env-vars \
            SERVICEBUS_FQDN="${azurerm_servicebus_namespace.service_bus.name}.servicebus.windows.net" \
            MANAGED_IDENTITY_CLIENT_ID=${azurerm_user_assigned_identity.identity_aca.client_id} \
            SERVICEBUS_QUEUE_NAME=${azurerm_servicebus_queue.queue_messages.name}
    EOT
  }

  depends_on = [terraform_data.build_container_image, azurerm_role_assignment.receiver_identity]
}
