import SamenplanServer
import VolunteersService

await ServiceRuntime.main { try Volunteers.definition() }
