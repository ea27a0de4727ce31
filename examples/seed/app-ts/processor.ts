// The lab's job processor in TypeScript: the same flow as app/processor.py with @azure/service-bus and
// @azure/identity. It reads only the three variables the job sets; nothing here knows about eventjobs.
import { DefaultAzureCredential } from "@azure/identity";
import { ServiceBusClient } from "@azure/service-bus";

const fqdn = required("SERVICEBUS_FQDN");
const queueName = required("SERVICEBUS_QUEUE_NAME");
const clientId = required("MANAGED_IDENTITY_CLIENT_ID");
console.log(`SERVICEBUS_FQDN: ${fqdn}`);
console.log(`SERVICEBUS_QUEUE_NAME: ${queueName}`);
console.log(`MANAGED_IDENTITY_CLIENT_ID: ${clientId}`);

// Managed identity inside the job; Azure CLI when run from a developer's machine. Nothing else.
const credential = new DefaultAzureCredential({
  managedIdentityClientId: clientId,
  excludeEnvironmentCredential: true,
  excludeWorkloadIdentityCredential: true,
  excludeAzureDeveloperCliCredential: true,
  excludeAzurePowerShellCredential: true,
  excludeVisualStudioCodeCredential: true,
});

const client = new ServiceBusClient(fqdn, credential);
const receiver = client.createReceiver(queueName);
try {
  const messages = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
  for (const message of messages) {
    console.log(`Received: ${typeof message.body === "string" ? message.body : JSON.stringify(message.body)}`);
    await receiver.completeMessage(message);
    console.log("Message completed");
  }
} finally {
  await receiver.close();
  await client.close();
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}
