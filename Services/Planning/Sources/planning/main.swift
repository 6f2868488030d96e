import PlanningService
import SamenplanServer

await ServiceRuntime.main { try Planning.definition() }
