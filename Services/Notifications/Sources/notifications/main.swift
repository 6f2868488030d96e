import NotificationsService
import SamenplanServer

await ServiceRuntime.main { try Notifications.definition() }
