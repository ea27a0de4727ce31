output "servicebus_endpoint" {
  value = azurerm_servicebus_namespace.service_bus.endpoint
}

output "servicebus_connection_string" {
  value     = azurerm_servicebus_namespace.service_bus.default_primary_connection_string
  sensitive = true
}

output "identity_client_id" {
  value = azurerm_user_assigned_identity.identity_aca.client_id
}

output "acr_login_server" {
  value = azurerm_container_registry.acr.login_server
}
