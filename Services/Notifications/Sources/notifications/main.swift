import NotificationsService
import SamenplanServer

ServiceRuntime.runTasksOnEventLoops()
await ServiceRuntime.main { try Notifications.definition() }
