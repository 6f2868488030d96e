import PlanningService
import SamenplanServer

ServiceRuntime.runTasksOnEventLoops()
await ServiceRuntime.main { try Planning.definition() }
