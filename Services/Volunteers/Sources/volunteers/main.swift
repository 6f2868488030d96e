import SamenplanServer
import VolunteersService

ServiceRuntime.runTasksOnEventLoops()
await ServiceRuntime.main { try Volunteers.definition() }
