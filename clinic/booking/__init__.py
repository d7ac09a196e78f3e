"""Booking: free slots, the booking services, the day grid and the front desk's pages.

The models (Appointment, Room, AppointmentType, StaffSchedule, TimeOff) stay in
clinic.models; what other apps add to a booking comes through clinic.hooks.
"""
